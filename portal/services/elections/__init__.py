"""Board elections by member class (issue 15): the board record, elections, nominations,
ranked ballots and the count (``count``: the single transferable vote, pure, no database)."""
