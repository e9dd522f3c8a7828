"""The code domain: write a function; hidden unit tests run in the code sandbox."""
