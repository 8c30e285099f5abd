// Package jsonrpc serves a [service.Service] as JSON-RPC 2.0 over HTTP,
// and calls JSON-RPC 2.0 servers, glyph's or any other.
//
// A [Handler] is an ordinary http.Handler. Each callable of the service
// is a method named after its path, with "/" replaced by ".": a function
// "hello" is "hello", a class's constructor "User", a component's method
// "Search/run_query" is "Search.run_query". The handler finds them by
// reading the service's index, as a glyph client would, and the resources
// it links to; methods of instances whose state lives in their URL need
// that URL, which a method name cannot carry, and are not offered.
//
//	svc := service.New()
//	svc.MustFunc("add", func(a, b int) int { return a + b }, service.Args("a", "b"))
//	srv := hyperhttp.NewServer(":8080", jsonrpc.NewHandler(svc))
//	srv.ListenAndServe()
//
//	$ curl -d '{"jsonrpc":"2.0","method":"add","params":[1,2],"id":1}' localhost:8080
//	{"jsonrpc":"2.0","result":3,"id":1}
//
// The handler only translates: arguments by position or by name are
// converted by the types of the method's inputs (a base64 string to
// bytes, an RFC 3339 string to a datetime, ...) and checked by the
// service as any call's; results are written as plain JSON; errors carry
// a code from one table of service kinds. Batches, notifications, the
// standard error codes, the limits on a request and the deadline a
// client sends in [TimeoutHeader] are all in spec.md beside this file,
// whose examples the tests send to a real server and check byte for byte.
//
// What JSON-RPC cannot carry is refused with a [service.KindUnsupported]
// error that names the method: a callback argument, and a result that
// streams. A streaming input takes its items as one array, as over
// HTTP.
//
// Every failed call is logged (see [WithLogger]), a notification's too:
// at info level when the caller is at fault, at error level when the
// server is, with the logref the caller got.
//
// A [Client] calls a method by name with arguments by position or by
// name, and returns the server's errors as *[service.Error] values whose
// kind the code gives back.
package jsonrpc
