"""The report card (成绩单): the three rates of every unit, the monthly supervision
snapshot (一月一督查) and the public bulletin (两月一通报). See docs/REPORT-CARD.md."""
