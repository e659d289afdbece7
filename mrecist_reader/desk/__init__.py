"""The reading desk: where the reader is and what a gesture means (no Qt).

Between the widgets (``ui``) and the read (``session``): the worklist and the open
subject, timepoint and series (:mod:`~mrecist_reader.desk.worklist`), what a caliper
means (:mod:`~mrecist_reader.desk.intent`) and the desk itself, with its psygnal signals
(:mod:`~mrecist_reader.desk.desk`). Widgets convert voxel index <-> millimetres once,
for drawing; the desk deals in patient millimetres and the image a caliper was drawn on.

Kept import-light: the start-up prefetch imports :mod:`~mrecist_reader.desk.worklist`
before Qt and the database are loaded.
"""
