package frontend

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/openlsc/openlsc/mail"
	"github.com/openlsc/openlsc/models"
)

// DevMailbox is the development mailbox that the /dev/mail pages show.
type DevMailbox interface {
	// List returns up to limit messages, newest first.
	List(ctx context.Context, limit int) ([]mail.DevMail, error)
	// Get returns one message, or a models.CodeNotFound error.
	Get(ctx context.Context, id int64) (mail.DevMail, error)
}

// devMailLimit is how many messages the mailbox page lists.
const devMailLimit = 200

// MountDevMail registers the development mailbox pages: GET /dev/mail lists
// the mail OpenLSC would have sent, newest first, and GET /dev/mail/:id
// shows one message with its links clickable. Mount them in development
// mode only.
func (u *UI) MountDevMail(r gin.IRouter, box DevMailbox) {
	h := devMail{ui: u, box: box}
	r.GET("/dev/mail", u.page(h.list))
	r.GET("/dev/mail/:id", u.page(h.show))
}

// devMail serves the development mailbox pages.
type devMail struct {
	ui  *UI
	box DevMailbox
}

// devMailView is the data of devmail.html: a list, or one message.
type devMailView struct {
	List    []mail.DevMail // the list page
	Message *devMessage    // the page of one message
}

// devMessage is one message prepared for display.
type devMessage struct {
	mail.DevMail
	Text   []textSegment // the text body, with its links marked
	Links  []string      // every http(s) link in the text and HTML bodies
	SrcDoc string        // the HTML body for the sandboxed iframe
}

// textSegment is a run of the text body: plain text, or a link.
type textSegment struct {
	Text string
	URL  string // set when the run is a link
}

func (h devMail) list(c *gin.Context) {
	list, err := h.box.List(c.Request.Context(), devMailLimit)
	if err != nil {
		h.ui.Error(c, http.StatusInternalServerError, err)
		return
	}
	h.ui.render(c, http.StatusOK, "devmail.html", "devmail", devMailView{List: list})
}

func (h devMail) show(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		h.ui.NotFound(c)
		return
	}
	m, err := h.box.Get(c.Request.Context(), id)
	if models.ErrorCode(err) == models.CodeNotFound {
		h.ui.NotFound(c)
		return
	}
	if err != nil {
		h.ui.Error(c, http.StatusInternalServerError, err)
		return
	}
	h.ui.render(c, http.StatusOK, "devmail.html", "devmail", devMailView{Message: &devMessage{
		DevMail: m,
		Text:    linkify(m.TextBody),
		Links:   links(m.TextBody, m.HTMLBody),
		SrcDoc:  srcDoc(m.HTMLBody),
	}})
}

// urlPattern matches an http(s) URL in text: ASCII URL characters only, so
// that a URL followed directly by Japanese text ends where it should.
var urlPattern = regexp.MustCompile(`https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)

// hrefPattern matches the double-quoted href attributes of an HTML body
// (the mail templates always quote them so).
var hrefPattern = regexp.MustCompile(`(?i)\shref="([^"]*)"`)

// findURLs returns the URLs in text, each with its start and end, trimmed
// of punctuation that ends a sentence rather than the URL.
func findURLs(text string) [][2]int {
	var out [][2]int
	for _, loc := range urlPattern.FindAllStringIndex(text, -1) {
		end := loc[1]
		for end > loc[0] && strings.ContainsRune(".,;:!?'\")]", rune(text[end-1])) {
			// Keep a closing parenthesis that closes one in the URL.
			if text[end-1] == ')' && strings.Count(text[loc[0]:end], "(") >= strings.Count(text[loc[0]:end], ")") {
				break
			}
			end--
		}
		if end-loc[0] > len("https://") {
			out = append(out, [2]int{loc[0], end})
		}
	}
	return out
}

// linkify splits text into plain runs and links.
func linkify(text string) []textSegment {
	var out []textSegment
	last := 0
	for _, loc := range findURLs(text) {
		if loc[0] > last {
			out = append(out, textSegment{Text: text[last:loc[0]]})
		}
		out = append(out, textSegment{Text: text[loc[0]:loc[1]], URL: text[loc[0]:loc[1]]})
		last = loc[1]
	}
	if last < len(text) {
		out = append(out, textSegment{Text: text[last:]})
	}
	return out
}

// links returns the http(s) links of a message, from its text body and the
// href attributes of its HTML body, each once, in order of appearance.
func links(text, htmlBody string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(u string) {
		if !seen[u] && (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
			seen[u] = true
			out = append(out, u)
		}
	}
	for _, loc := range findURLs(text) {
		add(text[loc[0]:loc[1]])
	}
	for _, m := range hrefPattern.FindAllStringSubmatch(htmlBody, -1) {
		add(html.UnescapeString(m[1]))
	}
	return out
}

// srcDoc prepares an HTML body for a sandboxed iframe: links open in a new
// tab, since the pages they lead to refuse to be framed.
func srcDoc(body string) string {
	const base = `<base target="_blank">`
	if i := strings.Index(strings.ToLower(body), "<head>"); i >= 0 {
		i += len("<head>")
		return body[:i] + base + body[i:]
	}
	return base + body
}
