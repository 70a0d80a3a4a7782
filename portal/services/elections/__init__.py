"""Board elections by member class (issue 15): the board record, elections, nominations."""
