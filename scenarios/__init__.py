"""Programs on the simulation harness: the ``make sim`` scenarios (:mod:`.run`,
:mod:`.scenario`), the soak (:mod:`.soak`) and the timeline and waveform plots."""
