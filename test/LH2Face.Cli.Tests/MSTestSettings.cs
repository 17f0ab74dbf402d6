// Tests that train share two CPU cores; running them in parallel only slows each one down.
[assembly: DoNotParallelize]
