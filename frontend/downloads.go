package frontend

import (
	"cmp"
	"context"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"

	"github.com/openlsc/openlsc/api/httperr"
	"github.com/openlsc/openlsc/app"
)

// DownloadsUseCases is what the downloads page asks of the application
// (*app.Downloads).
type DownloadsUseCases interface {
	List(ctx context.Context, user int64, f app.DownloadFilter) ([]app.ProductDownloads, error)
	Link(ctx context.Context, user, fileID int64) (string, time.Time, error)
}

var _ DownloadsUseCases = (*app.Downloads)(nil)

// MountDownloads registers the downloads page, GET /downloads (with the
// filters q, product and language), and POST /downloads/:file/link, which
// answers 303 with a signed download link that the browser then follows
// and downloads.
func (u *UI) MountDownloads(r gin.IRouter, d DownloadsUseCases) {
	h := downloadsPage{ui: u, d: d}
	r.GET("/downloads", u.page(h.show))
	r.POST("/downloads/:file/link", u.page(h.link))
}

type downloadsPage struct {
	ui *UI
	d  DownloadsUseCases
}

// downloadsView is the data of downloads.html.
type downloadsView struct {
	Query, Product, Language string // the filters as given
	Filtered                 bool
	NotActive                bool // the work email is not confirmed
	Products                 []productView
	ProductOptions           []downloadOption
	LanguageOptions          []downloadOption
}

type downloadOption struct {
	Value, Label string
}

type productView struct {
	Code, Name string
	Versions   []versionView
}

// versionView is one version of a product, with its texts localized in
// Go (as those of its files) so that the template prints fields rather
// than calling t for every version and file. It copies the fields it shows
// rather than embed app's type: text/template looks a field up by name on
// every use, and through an embedded struct that lookup walks the
// embedding.
type versionView struct {
	Version, Edition string
	Downgrade        bool
	Anchor           string // id of the version's heading
	Caption          string // of the table of files
	ReleasedLabel    string // "released on …", or ""
	Rows             template.HTML
}

func (h downloadsPage) show(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	q := c.Request.URL.Query()
	v := downloadsView{
		Query:    cutString(strings.TrimSpace(q.Get("q")), 200),
		Product:  cutString(strings.TrimSpace(q.Get("product")), 64),
		Language: cutString(strings.TrimSpace(q.Get("language")), 35),
	}
	v.Filtered = v.Query != "" || v.Product != "" || v.Language != ""
	ctx := c.Request.Context()
	all, err := h.d.List(ctx, user, app.DownloadFilter{})
	list := all
	if err == nil && v.Filtered {
		list, err = h.d.List(ctx, user, app.DownloadFilter{Query: v.Query, Product: v.Product, Language: v.Language})
	}
	switch {
	case errors.Is(err, app.ErrConfirmWorkEmail):
		v.NotActive = true
		h.ui.render(c, http.StatusForbidden, "downloads.html", "downloads", v)
		return
	case err != nil:
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	lang := h.ui.i18n.negotiate(c.Request)
	langName := languageNamer(lang)
	seenLang := map[string]bool{}
	for _, p := range all {
		v.ProductOptions = append(v.ProductOptions, downloadOption{Value: p.Code, Label: p.Name})
		for _, ver := range p.Versions {
			for _, f := range ver.Files {
				if !seenLang[f.Language] {
					seenLang[f.Language] = true
					v.LanguageOptions = append(v.LanguageOptions, downloadOption{Value: f.Language, Label: langName(f.Language)})
				}
			}
		}
	}
	slices.SortFunc(v.LanguageOptions, func(a, b downloadOption) int { return strings.Compare(a.Label, b.Label) })
	text := h.ui.pageText(c.Request)
	v.Products = productViews(text, message.NewPrinter(lang), langName, list)
	if text.err != nil {
		h.ui.Error(c, http.StatusInternalServerError, text.err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	h.ui.render(c, http.StatusOK, "downloads.html", "downloads", v)
}

// languageNamer returns a function naming a language tag in lang (the tag
// itself when it has no name), remembering the names it gave.
func languageNamer(lang language.Tag) func(string) string {
	names := display.Tags(lang)
	known := map[string]string{}
	return func(tag string) string {
		if n, ok := known[tag]; ok {
			return n
		}
		n := tag
		if t, err := language.Parse(tag); err == nil {
			n = cmp.Or(names.Name(t), tag)
		}
		known[tag] = n
		return n
	}
}

// productViews is the list of products with the texts of their versions
// and files, in the language of text (printer writes the numbers).
func productViews(text *pageText, printer *message.Printer, langName func(string) string, list []app.ProductDownloads) []productView {
	out := make([]productView, 0, len(list))
	rowTexts := fileRowTexts{Copy: text.get("downloads.copy"), Copied: text.get("downloads.copied"), GetLink: text.get("downloads.get_link")}
	for _, p := range list {
		pv := productView{Code: p.Code, Name: p.Name}
		for _, ver := range p.Versions {
			vv := versionView{Version: ver.Version, Edition: ver.Edition, Downgrade: ver.Downgrade, Anchor: "version-" + strconv.FormatInt(ver.ID, 10)}
			vv.Caption = text.format("downloads.files_caption", "Product", p.Name, "Version", strings.TrimSpace(ver.Version+" "+ver.Edition))
			if ver.Released != "" {
				vv.ReleasedLabel = text.format("downloads.released", "Date", ver.Released)
			}
			files := make([]fileRow, 0, len(ver.Files))
			for _, f := range ver.Files {
				id, n := downloadSize(printer, f.Size)
				files = append(files, fileRow{Name: f.Name, SHA256: f.SHA256, Size: f.Size, LanguageName: langName(f.Language),
					SizeLabel: text.format(id, "N", n), CopyLabel: text.format("downloads.copy_sha", "Name", f.Name),
					LinkURL: "/downloads/" + strconv.FormatInt(f.ID, 10) + "/link", LinkLabel: text.format("downloads.get_link_for", "Name", f.Name)})
			}
			vv.Rows = fileRowsHTML(files, rowTexts)
			pv.Versions = append(pv.Versions, vv)
		}
		out = append(out, pv)
	}
	return out
}

func (h downloadsPage) link(c *gin.Context) {
	user, _, ok := h.ui.signedIn(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("file"), 10, 64)
	if err != nil || id <= 0 {
		h.ui.Error(c, http.StatusNotFound, app.ErrNoSuchFile)
		return
	}
	url, _, err := h.d.Link(c.Request.Context(), user, id)
	if err != nil {
		h.ui.Error(c, httperr.Status(err), err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, url)
}

// downloadSize writes a size in bytes as the message ID of its unit and the
// number in it, with one decimal above a kilobyte (binary multiples).
func downloadSize(p *message.Printer, n int64) (id, text string) {
	if n < 1024 {
		return "downloads.size.bytes", p.Sprintf("%d", n)
	}
	units := []string{"downloads.size.kb", "downloads.size.mb", "downloads.size.gb", "downloads.size.tb"}
	x := float64(n) / 1024
	i := 0
	for x >= 1024 && i < len(units)-1 {
		x /= 1024
		i++
	}
	return units[i], p.Sprintf("%.1f", x)
}

// cutString cuts s to at most n bytes, on a character boundary.
func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
