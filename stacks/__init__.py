"""Infrastructure: the CDK stacks and the constructs they compose. Nothing here imports ``lambda/`` code."""
