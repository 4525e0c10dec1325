package devoidc

import (
	"bytes"
	"context"
	"html/template"
	"log/slog"
	"net/http"
)

// picker is the login UI op redirects to (Client.LoginURL): GET shows the personas, POST
// completes the auth request and sends the browser back to op's authorize callback.
type picker struct {
	storage  *storage
	prefix   string                                      // issuer path, e.g. "/dev/oidc"
	callback func(ctx context.Context, id string) string // op.AuthCallbackURL
	logger   *slog.Logger
}

// The page is plain HTML: no script, no style element, no style attributes (the server's CSP
// forbids inline styles and scripts). Every persona is a native submit button, so the page works
// with the keyboard alone and names each choice for screen readers.
var pickerPage = template.Must(template.New("picker").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Development sign-in — OpenLSC</title>
</head>
<body>
<main class="devoidc">
<h1>Development sign-in — choose a persona</h1>
<p lang="ja" class="subtitle">開発用サインイン — ペルソナを選択</p>
<p>This is OpenLSC's built-in development OpenID provider. It asks for no password and exists only in development mode.</p>
<p lang="ja">これは開発モード専用の OpenID プロバイダーです。パスワードは不要です。</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="authRequestID" value="{{.ID}}">
<fieldset>
<legend>Sign in as / サインインするペルソナ</legend>
<ul class="personas">
{{- range $i, $p := .Personas}}
<li>
<button type="submit" name="subject" value="{{$p.Subject}}" id="persona-{{$i}}" aria-describedby="persona-{{$i}}-desc">{{$p.Name}} &lt;{{$p.Email}}&gt;</button>
<p id="persona-{{$i}}-desc">{{$p.Description}} <span class="subject">(sub: {{$p.Subject}})</span></p>
</li>
{{- end}}
</ul>
</fieldset>
</form>
</main>
</body>
</html>
`))

var loggedOutPage = template.Must(template.New("logged-out").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signed out — OpenLSC development provider</title>
</head>
<body>
<main class="devoidc">
<h1>Signed out of the development provider</h1>
<p lang="ja" class="subtitle">開発用プロバイダーからサインアウトしました。</p>
{{- if .}}
<p><a href="{{.}}">Back to OpenLSC / OpenLSC に戻る</a></p>
{{- end}}
</main>
</body>
</html>
`))

func (p *picker) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY") // the picker must not be framed (clickjacking)
	h.Set("X-Content-Type-Options", "nosniff")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		p.show(w, r)
	case http.MethodPost:
		p.choose(w, r)
	default:
		h.Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (p *picker) show(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	if _, ok := p.storage.pending(id); !ok {
		http.Error(w, "unknown, expired or completed sign-in request: start again from the application", http.StatusBadRequest)
		return
	}
	var buf bytes.Buffer
	err := pickerPage.Execute(&buf, struct {
		Action   string
		ID       string
		Personas []Persona
	}{p.prefix + pathLogin, id, p.storage.ordered})
	if err != nil {
		p.logger.Error("render persona picker", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

func (p *picker) choose(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("authRequestID")
	subject := r.PostForm.Get("subject")
	if _, ok := p.storage.personas[subject]; !ok {
		http.Error(w, "unknown persona", http.StatusBadRequest)
		return
	}
	if err := p.storage.choosePersona(id, subject); err != nil {
		http.Error(w, "unknown, expired or completed sign-in request: start again from the application", http.StatusBadRequest)
		return
	}
	p.logger.Info("development sign-in", "persona", subject)
	http.Redirect(w, r, p.callback(r.Context(), id), http.StatusFound)
}

// loggedOut is the page end_session lands on when the request names no client (or no
// post_logout_redirect_uri); it links back to the first registered post-logout URI, if any.
func loggedOut(back string) http.HandlerFunc {
	var buf bytes.Buffer
	if err := loggedOutPage.Execute(&buf, back); err != nil {
		panic(err) // static template and a string: cannot fail
	}
	page := buf.Bytes()
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(page)
	}
}
