/// Running an async body that throws a typed error, keeping its outcome as a value.
///
/// Use this, and only this, where a child task, `Task {}` or `async let` needs an error as a
/// value. Never write the outcome straight into a returned tuple:
///
///     group.addTask { do { return (index, .success(try await f())) } catch { return (index, .failure(error)) } }
///
/// Swift 6.3.1 at -O miscompiles that shape: when an async closure with an indirect
/// (generic) result, such as a task-group child or a `Task {}` body, stores part of its
/// returned tuple before a throwing `await` inside `do/catch`, the store made before the
/// suspension is lost on the success path, and the caller reads a zero. The debug build is
/// right, the release build returns index 0 for every place (and crashed on
/// `targets[index]` in `ResourceSearch`). Typed and untyped throws both show it; a named
/// function in the same place does not. Smallest reproduction, `swiftc -O`:
///
///     struct E: Error {}
///     @inline(never) func fetch(_ i: Int) async throws(E) -> Int { i * 10 }
///     @inline(never) func value(_ i: Int) -> Int { i }
///     let t = Task { () async -> (Int, Int) in
///         let i = value(5)
///         do throws(E) { return (i, try await fetch(i)) } catch { return (i, -1) }
///     }
///     print(await t.value)   // -O prints (0, 50); -Onone prints (5, 50)
///
/// The SIL is right (element 0 is stored into the `@out` buffer before the call); in the
/// LLVM IR the resumed success path writes only element 1. Awaiting into a local first and
/// building the tuple after every suspension is compiled correctly:
///
///     group.addTask { let result = await Result { () async throws(E) in try await f() }; return (index, result) }
///
/// `SourceRulesTests` fails the suite if the tuple-around-await shape comes back.
extension Result {
    public init(awaiting body: () async throws(Failure) -> Success) async {
        do throws(Failure) {
            let value = try await body()
            self = .success(value)
        } catch {
            self = .failure(error)
        }
    }
}
