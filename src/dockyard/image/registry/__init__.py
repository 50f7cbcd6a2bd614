"""The OCI distribution registry client: pull and push manifests and blobs, auth, mirrors."""
