// Package xmlrpc serves a [service.Service] as XML-RPC over HTTP, and
// calls XML-RPC servers, glyph's or any other.
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
//	srv := hyperhttp.NewServer(":8080", xmlrpc.NewHandler(svc))
//	srv.ListenAndServe()
//
//	>>> import xmlrpc.client
//	>>> xmlrpc.client.ServerProxy("http://localhost:8080/").add(1, 2)
//	3
//
// The handler only translates: XML-RPC's types (int, i4, i8, boolean,
// string, double, dateTime.iso8601, base64, struct, array and the nil
// extension) become glyph values, converted further by the types of the
// method's inputs (a struct to a dict of integer keys, an array to a set,
// ...), which the service checks as any call's; results are written back
// in XML-RPC's types; errors are faults whose code comes from one table
// of service kinds. system.listMethods, system.methodHelp and
// system.methodSignature describe the methods from their forms, and
// system.multicall makes several calls in one request. The
// limits on a request and the deadline a client sends in [TimeoutHeader]
// are in spec.md beside this file, whose examples the tests send to a
// real server and check byte for byte.
//
// What XML-RPC cannot carry is refused with a [service.KindUnsupported]
// fault that names the method: a callback argument, and a result that
// streams. A streaming input takes its items as one array.
//
// Every failed call is logged (see [WithLogger]):
// at info level when the caller is at fault, at error level when the
// server is, with the logref the caller got.
//
// A [Client] calls a method by name with arguments by position, and
// returns faults as *[service.Error] values whose kind the fault code
// gives back.
package xmlrpc
