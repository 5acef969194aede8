print("svfap")
