"""The web side: app wiring (app.py), request helpers (context.py), views, forms and the API."""
