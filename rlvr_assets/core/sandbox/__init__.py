"""Running untrusted code: process limits, the Python job runner, the worker kit and the budget helper. Imports only kernel/."""
