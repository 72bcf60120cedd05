"""Detection: enrolled performers' faces and voices in media, findings, staydown and takedown notices.

Cleared uses are told from uncleared ones by usage reports and the registry's C2PA signature;
uncleared ones become findings, fingerprinted with PDQ so re-uploads are caught.
"""
