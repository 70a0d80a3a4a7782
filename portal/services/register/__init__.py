"""The register of members: member classes, members and their classes, search and the
statutory register, the member's profile."""
