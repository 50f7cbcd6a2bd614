"""The builder's steps: config-only instructions, RUN in a container, COPY/ADD into a snapshot."""
