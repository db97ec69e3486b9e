"""System tests: real servers, browsers, Redis, wheels and containers."""
