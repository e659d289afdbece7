"""Images from a DICOM archive: query and retrieve over DIMSE and DICOMweb (Qt-free).

- :mod:`~mrecist_reader.archive.nodes`: where an archive is (``DimseNode``,
  ``DicomwebNode``) and how ``AET@HOST:PORT`` is parsed;
- :mod:`~mrecist_reader.archive.records`: what a search asks and finds (no identity);
- :mod:`~mrecist_reader.archive.dimse`: C-ECHO, C-FIND, C-GET and C-MOVE (pynetdicom);
- :mod:`~mrecist_reader.archive.dicomweb`: QIDO-RS and WADO-RS (dicomweb-client);
- :mod:`~mrecist_reader.archive.store`: the local folder that receives the files;
- :mod:`~mrecist_reader.archive.pull`: search, retrieve what is missing, and check that
  every image the archive announced arrived;
- :mod:`~mrecist_reader.archive.multipart`: WADO-RS multipart bodies split as they arrive;
- :mod:`~mrecist_reader.archive.sr`: DICOM SR TID 1500 of a signed timepoint, and back;
- :mod:`~mrecist_reader.archive.outbox`: results queued for the archive, retried;
- :mod:`~mrecist_reader.archive.config`: the application's node (``archive.toml``);
- :mod:`~mrecist_reader.archive.errors`: one error class per failure a user can act on.
"""
