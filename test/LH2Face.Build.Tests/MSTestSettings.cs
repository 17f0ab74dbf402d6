// Every test works in its own temporary directory, so methods can run side by side.
[assembly: Parallelize(Scope = ExecutionScope.MethodLevel)]
