"""Board elections (issue 15): seats per class, nominations, ranked ballots and the count
(``count``: the single transferable vote, pure, no database)."""
