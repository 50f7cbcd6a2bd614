"""dockyard.build: Dockerfile front end (parse, stages, .dockerignore) and, later, the builder."""
