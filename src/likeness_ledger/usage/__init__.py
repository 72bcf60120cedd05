"""Usage reports, payment obligations, payments and statements (issue 4).

Producers report each use of a replica; every report is cleared by the rules engine through
:func:`likeness_ledger.consent.services.evaluate`. A cleared report becomes a payment obligation,
an uncleared one is kept as a violation. Producers pay against obligations; performers, producers
and the union read balances and statements. Money is :class:`~decimal.Decimal` end to end.
"""
