package api_test

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/openlsc/openlsc/api"
	"github.com/openlsc/openlsc/app"
)

// openAPIRoute is one method and path, the path in OpenAPI form
// (/api/v1/tokens/{id}).
type openAPIRoute struct{ Method, Path string }

func (r openAPIRoute) String() string { return r.Method + " " + r.Path }

// openAPIDoc is the parts of the document the tests look at.
type openAPIDoc struct {
	OpenAPI    string                                 `json:"openapi"`
	Paths      map[string]map[string]openAPIOperation `json:"paths"`
	Components struct {
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Parameters  []openAPIParameter         `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
	Security    []map[string][]string      `json:"security"`
}

type openAPIParameter struct {
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) (openAPIDoc, any) {
	t.Helper()
	raw := api.OpenAPIDocument()
	var doc openAPIDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	return doc, tree
}

// documentedRoutes lists the document's operations.
func documentedRoutes(t *testing.T, doc openAPIDoc) []openAPIRoute {
	t.Helper()
	var out []openAPIRoute
	for path, item := range doc.Paths {
		for method := range item {
			if !slices.Contains(openAPIMethods, method) {
				if method != "parameters" && method != "summary" && method != "description" {
					t.Errorf("paths[%s] has the unknown key %q", path, method)
				}
				continue
			}
			out = append(out, openAPIRoute{strings.ToUpper(method), path})
		}
	}
	slices.SortFunc(out, func(a, b openAPIRoute) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// resolvePointer follows a local JSON pointer (#/components/schemas/X).
func resolvePointer(tree any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	cur := tree
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func collectRefs(v any, at string, out map[string]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				out[at] = s
				continue
			}
			collectRefs(x, at+"/"+k, out)
		}
	case []any:
		for i, x := range v {
			collectRefs(x, at+"/"+strconv.Itoa(i), out)
		}
	}
}

var openAPIPathParam = regexp.MustCompile(`\{([^}]+)\}`)

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, tree := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	for _, scheme := range []string{"session", "bearer"} {
		if _, ok := doc.Components.SecuritySchemes[scheme]; !ok {
			t.Errorf("components.securitySchemes has no %s", scheme)
		}
	}

	refs := map[string]string{}
	collectRefs(tree, "#", refs)
	if len(refs) == 0 {
		t.Error("the document has no $ref at all")
	}
	for at, ref := range refs {
		if !strings.HasPrefix(ref, "#/components/") || !resolvePointer(tree, ref) {
			t.Errorf("%s: $ref %q does not resolve to a component", at, ref)
		}
	}

	ids := map[string]string{}
	for _, r := range documentedRoutes(t, doc) {
		o := doc.Paths[r.Path][strings.ToLower(r.Method)]
		if o.OperationID == "" {
			t.Errorf("%s has no operationId", r)
		} else if other, dup := ids[o.OperationID]; dup {
			t.Errorf("%s and %s share the operationId %q", r, other, o.OperationID)
		}
		ids[o.OperationID] = r.String()

		success := false
		for code := range o.Responses {
			if n, err := strconv.Atoi(code); err != nil || n < 100 || n > 599 {
				t.Errorf("%s: response %q is not a status code", r, code)
			} else if n < 400 {
				success = true
			}
		}
		if !success {
			t.Errorf("%s documents no success response", r)
		}
		for _, req := range o.Security {
			for name := range req {
				if _, ok := doc.Components.SecuritySchemes[name]; !ok {
					t.Errorf("%s: security scheme %q is not defined", r, name)
				}
			}
		}

		// Path parameters are declared exactly as the template names them.
		var inTemplate, declared []string
		for _, m := range openAPIPathParam.FindAllStringSubmatch(r.Path, -1) {
			inTemplate = append(inTemplate, m[1])
		}
		for _, p := range o.Parameters {
			if p.In == "path" {
				if !p.Required {
					t.Errorf("%s: path parameter %s is not required", r, p.Name)
				}
				declared = append(declared, p.Name)
			}
		}
		slices.Sort(inTemplate)
		slices.Sort(declared)
		if !slices.Equal(inTemplate, declared) {
			t.Errorf("%s: path parameters declared %v, the path has %v", r, declared, inTemplate)
		}
	}
}

func TestOpenAPIServe(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.GET("/api/openapi.json", api.ServeOpenAPI)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q", cc)
	}
	if !bytes.Equal(rec.Body.Bytes(), api.OpenAPIDocument()) {
		t.Error("the body is not the embedded document")
	}
}

// TestOpenAPIDocumentsEveryRoute reads the routes the api package
// registers from its source and compares them with the document.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	documented := documentedRoutes(t, doc)
	registered := sourceRoutes(t)
	if len(registered) < 10 {
		t.Fatalf("found only %d routes in the source: %v", len(registered), registered)
	}
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("%s is registered but not in openapi.json", r)
		}
	}
	for _, r := range documented {
		if slices.Contains(registered, r) {
			continue
		}
		if r == openAPIServeRoute {
			t.Logf("%s is documented but server.go does not register it yet: add e.GET(\"/api/openapi.json\", ServeOpenAPI)", r)
			continue
		}
		t.Errorf("%s is in openapi.json but the source registers no such route", r)
	}
	t.Logf("%d routes in the source, %d operations documented", len(registered), len(documented))
}

var openAPIServeRoute = openAPIRoute{"GET", "/api/openapi.json"}

// TestOpenAPIRoutesExist asks a real server for every documented route,
// signed out, with placeholder parameters: the router must not answer
// that there is no such route or method.
func TestOpenAPIRoutesExist(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	env := newAuthEnv(t)
	base, _ := url.Parse("http://openlsc.test")
	sessions := app.NewSessions(env.store, 30*time.Minute, 12*time.Hour)
	downloadStorage, err := app.NewDirStorage(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := api.New(api.Options{
		Logger: slog.New(slog.DiscardHandler), BaseURL: base,
		Auth: &api.Auth{
			Sessions: sessions, SignIn: app.NewSignIn(env.store, sessions, env.acc, 365*24*time.Hour, nil), Tokens: app.NewTokens(env.store),
		},
		Accounts: env.acc, Requests: env.req, Access: &api.Access{Authz: env.az, Licences: env.store},
		Admin: app.NewAdmin(env.store, env.az, app.AdminOptions{BaseURL: base.String()}), Operators: app.NewOperators(env.store, env.az, env.acc, app.OperatorsOptions{BaseURL: base.String()}),
		Audit: app.NewAudit(env.store, env.az), Keys: app.NewKeys(env.store, env.az, app.KeysOptions{BaseURL: base.String()}),
		Downloads:   app.NewDownloads(env.store, env.az, app.DownloadsOptions{Storage: downloadStorage}),
		Summary:     app.NewSummary(env.store, env.az),
		Activations: app.NewActivations(env.store, env.az, app.ActivationsOptions{}),
	})
	if err != nil {
		t.Fatal(err)
	}
	wired := slices.Contains(sourceRoutes(t), openAPIServeRoute)
	for _, r := range documentedRoutes(t, doc) {
		if r == openAPIServeRoute && !wired {
			t.Logf("skipping %s: server.go does not register it yet", r)
			continue
		}
		path := openAPIPathParam.ReplaceAllString(r.Path, "1")
		var body *strings.Reader
		if r.Method == http.MethodGet || r.Method == http.MethodDelete {
			body = strings.NewReader("")
		} else {
			body = strings.NewReader("{}")
		}
		req := httptest.NewRequest(r.Method, path, body)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		var p api.Problem
		_ = json.Unmarshal(rec.Body.Bytes(), &p)
		switch {
		case rec.Code == http.StatusNotFound && strings.HasPrefix(p.Detail, "There is nothing at "):
			t.Errorf("%s (as %s %s): the router has no such route: %s", r, r.Method, path, rec.Body)
		case rec.Code == http.StatusMethodNotAllowed:
			t.Errorf("%s (as %s %s): the router does not allow this method: %s", r, r.Method, path, rec.Body)
		}
		if r == openAPIServeRoute && (rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), api.OpenAPIDocument())) {
			t.Errorf("%s answers %d, not the document", r, rec.Code)
		}
	}
	// The check above must be able to fail.
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/no-such-route", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "There is nothing at /api/v1/no-such-route.") {
		t.Errorf("an unknown route answers %d %s", rec.Code, rec.Body)
	}
}

// sourceRoutes reads the non-test Go files of the api package and
// follows New: the engine made by gin.New, the groups made with .Group
// (their paths prefixed), and calls passing a router on to functions of
// the package (mountRequests, MountAudit, …). It returns the routes under
// /api/ and /auth/, and /healthz and /readyz, in OpenAPI form; a route it
// cannot resolve fails the test.
func sourceRoutes(t *testing.T) []openAPIRoute {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	w := &routeWalker{t: t, fset: token.NewFileSet(), funcs: map[string][]*ast.FuncDecl{}, consts: map[string]string{}, seen: map[token.Pos]bool{}}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(w.fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name.Name != "api" {
			continue
		}
		w.files = append(w.files, f)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				w.funcs[d.Name.Name] = append(w.funcs[d.Name.Name], d)
			case *ast.GenDecl:
				if d.Tok != token.CONST {
					continue
				}
				for _, spec := range d.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								w.consts[n.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				}
			}
		}
	}
	news := w.funcs["New"]
	if len(news) != 1 {
		t.Fatalf("found %d functions named New in the api package", len(news))
	}
	w.walk(news[0], map[string]string{}, 0)

	// Every route registration must have been reached from New.
	for _, f := range w.files {
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && routeMethod(call) != "" && !w.seen[call.Pos()] {
				t.Errorf("%s: a route registration that New does not reach through the routers it passes on; the test cannot tell its path", w.fset.Position(call.Pos()))
			}
			return true
		})
	}

	var out []openAPIRoute
	for _, r := range w.routes {
		if strings.HasPrefix(r.Path, "/api/") || strings.HasPrefix(r.Path, "/auth/") || strings.HasPrefix(r.Path, "/dl/") || strings.HasPrefix(r.Path, "/activation/") || strings.HasPrefix(r.Path, "/.well-known/") || r.Path == "/healthz" || r.Path == "/readyz" {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

type routeWalker struct {
	t      *testing.T
	fset   *token.FileSet
	files  []*ast.File
	funcs  map[string][]*ast.FuncDecl
	consts map[string]string
	seen   map[token.Pos]bool
	routes []openAPIRoute
}

// routeMethod is the HTTP method of a gin route registration
// (x.GET(path, …) and so on), or "".
func routeMethod(call *ast.CallExpr) string {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || len(call.Args) < 2 {
		return ""
	}
	switch m := sel.Sel.Name; m {
	case "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS":
		return m
	}
	return ""
}

// walk follows fn's body with env, the path prefix of each variable that
// holds a router.
func (w *routeWalker) walk(fn *ast.FuncDecl, env map[string]string, depth int) {
	if depth > 8 {
		w.t.Fatalf("%s: routers passed on too deep", w.fset.Position(fn.Pos()))
	}
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, rhs := range n.Rhs {
				id, ok := n.Lhs[i].(*ast.Ident)
				if !ok {
					continue
				}
				if prefix, ok := w.routerValue(rhs, env); ok {
					env[id.Name] = prefix
				}
			}
		case *ast.CallExpr:
			if m := routeMethod(n); m != "" {
				w.route(n, m, env)
				return true
			}
			w.follow(n, env, depth)
		}
		return true
	})
}

// routerValue reports whether e is a router: gin.New(), gin.Default(), or
// x.Group(path, …) of a known router x; and its path prefix.
func (w *routeWalker) routerValue(e ast.Expr, env map[string]string) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	x, ok := sel.X.(*ast.Ident)
	if !ok {
		return "", false
	}
	if x.Name == "gin" && (sel.Sel.Name == "New" || sel.Sel.Name == "Default") {
		return "", true
	}
	prefix, known := env[x.Name]
	if !known || sel.Sel.Name != "Group" || len(call.Args) == 0 {
		return "", false
	}
	p, ok := w.stringValue(call.Args[0])
	if !ok {
		w.t.Errorf("%s: cannot resolve the path of this group statically", w.fset.Position(call.Pos()))
		return "", false
	}
	return prefix + p, true
}

func (w *routeWalker) route(call *ast.CallExpr, method string, env map[string]string) {
	w.seen[call.Pos()] = true
	pos := w.fset.Position(call.Pos())
	x, ok := call.Fun.(*ast.SelectorExpr).X.(*ast.Ident)
	if !ok {
		w.t.Errorf("%s: %s on an expression, not a router variable; the test cannot tell its group", pos, method)
		return
	}
	prefix, known := env[x.Name]
	if !known {
		w.t.Errorf("%s: %s.%s: %s is not a router the test can follow from New", pos, x.Name, method, x.Name)
		return
	}
	p, ok := w.stringValue(call.Args[0])
	if !ok {
		w.t.Errorf("%s: cannot resolve the path of %s.%s statically", pos, x.Name, method)
		return
	}
	w.routes = append(w.routes, openAPIRoute{method, openAPIPath(prefix + p)})
}

// follow walks into a function of the package that call passes routers to.
func (w *routeWalker) follow(call *ast.CallExpr, env map[string]string, depth int) {
	var name string
	switch f := call.Fun.(type) {
	case *ast.Ident:
		name = f.Name
	case *ast.SelectorExpr:
		if _, ok := f.X.(*ast.Ident); ok {
			name = f.Sel.Name
		}
	}
	callee := w.funcs[name]
	if name == "" || len(callee) == 0 {
		return
	}
	args := map[int]string{}
	for i, a := range call.Args {
		if id, ok := a.(*ast.Ident); ok {
			if prefix, known := env[id.Name]; known {
				args[i] = prefix
			}
		}
	}
	if len(args) == 0 {
		return
	}
	if len(callee) > 1 {
		w.t.Errorf("%s: routers are passed to %s, which the package declares %d times", w.fset.Position(call.Pos()), name, len(callee))
		return
	}
	inner := map[string]string{}
	i := 0
	for _, field := range callee[0].Type.Params.List {
		for _, n := range field.Names {
			if prefix, ok := args[i]; ok {
				inner[n.Name] = prefix
			}
			i++
		}
		if len(field.Names) == 0 {
			i++
		}
	}
	w.walk(callee[0], inner, depth+1)
}

// stringValue evaluates a string literal, a constant of the package, or
// a sum of them.
func (w *routeWalker) stringValue(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.Ident:
		s, ok := w.consts[e.Name]
		return s, ok
	case *ast.ParenExpr:
		return w.stringValue(e.X)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := w.stringValue(e.X)
		b, ok2 := w.stringValue(e.Y)
		return a + b, ok1 && ok2
	}
	return "", false
}

// openAPIPath turns gin's :param and *param segments into {param}.
func openAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	out := strings.Join(segs, "/")
	if len(out) > 1 {
		out = strings.TrimSuffix(out, "/")
	}
	return out
}

func TestOpenAPIPathConversion(t *testing.T) {
	for in, want := range map[string]string{
		"/api/v1/licences/:licence/users/:user": "/api/v1/licences/{licence}/users/{user}",
		"/api/v1/licences/:licence":             "/api/v1/licences/{licence}",
		"/healthz":                              "/healthz",
		"/files/*path":                          "/files/{path}",
	} {
		if got := openAPIPath(in); got != want {
			t.Errorf("openAPIPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOpenAPILicencesQuery: the query parameters documented for GET
// /api/v1/licences are the ones its handler reads (c.Query in
// licences.go), so a parameter added to one is added to the other.
func TestOpenAPILicencesQuery(t *testing.T) {
	doc, _ := loadOpenAPI(t)
	var documented []string
	for _, p := range doc.Paths["/api/v1/licences"]["get"].Parameters {
		if p.In == "query" {
			documented = append(documented, p.Name)
		}
	}
	src, err := os.ReadFile("licences.go")
	if err != nil {
		t.Fatal(err)
	}
	var read []string
	for _, m := range regexp.MustCompile(`c\.Query\("(\w+)"\)`).FindAllStringSubmatch(string(src), -1) {
		if !slices.Contains(read, m[1]) {
			read = append(read, m[1])
		}
	}
	slices.Sort(documented)
	slices.Sort(read)
	if !slices.Equal(documented, read) || !slices.Contains(read, "all") {
		t.Errorf("documented query parameters %v, the handler reads %v", documented, read)
	}
}
