"""Ad delivery: traffic model, eligibility, auction, pacing, outcomes and attribution.

The computational core is plain Python + numpy with no database access: the caller builds an
``entities.Setup`` from the ads tables, runs ``simulate.Engine.run`` over a range of hours with
an ``state.EngineState`` carried between runs, and stores the returned fact arrays. See
``docs/engine.md`` for the model, the calibration sources and the guarantees.
"""
