"""`pokegan serve`: a small offline web page over the library's sprite pipeline (`pokegan[web]`)."""
