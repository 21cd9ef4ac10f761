"""The load generator's parts, one job per module (``scripts/loadgen.py`` is the command).

``page`` rebuilds what a browser shows from ForwardMsgs and what it sends back; ``client`` speaks
Streamlit's WebSocket protocol; ``oracle`` computes, with its own SQL, what each user must see;
``checks`` compares the two; ``analyst`` is one simulated analyst and the mix of interactions;
``server`` starts the app and samples its CPU and memory; ``report`` holds the statistics and the
printed table; ``cli`` reads the command line and runs the sessions. The package is not named
``loadgen``: ``python scripts/loadgen.py`` puts scripts/ on sys.path, where a package of that name
would shadow the script.
"""
