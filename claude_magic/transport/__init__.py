"""The Messages API transport: the client and its credentials, request building, streaming and accumulating a response, API errors, context windows."""
