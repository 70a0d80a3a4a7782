"""General meetings: lifecycle (notice, opening), the frozen voter roll, ballots, the tally
(pure counting rules) and closing (storing and checking results)."""
