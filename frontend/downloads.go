package frontend

import (
	"context"
	"errors"
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

type versionView struct {
	app.VersionDownloads
	Anchor string // id of the version's heading
	Label  string // version and edition
	Files  []fileView
}

type fileView struct {
	app.FileDownload
	LanguageName string
	SizeID       string // message ID of the size's unit
	SizeText     string // the number, localized
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
	names := display.Tags(lang)
	printer := message.NewPrinter(lang)
	langName := func(tag string) string {
		t, err := language.Parse(tag)
		if err != nil {
			return tag
		}
		if n := names.Name(t); n != "" {
			return n
		}
		return tag
	}
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
	for _, p := range list {
		pv := productView{Code: p.Code, Name: p.Name}
		for _, ver := range p.Versions {
			vv := versionView{VersionDownloads: ver, Anchor: "version-" + strconv.FormatInt(ver.ID, 10),
				Label: strings.TrimSpace(ver.Version + " " + ver.Edition)}
			for _, f := range ver.Files {
				id, text := downloadSize(printer, f.Size)
				vv.Files = append(vv.Files, fileView{FileDownload: f, LanguageName: langName(f.Language), SizeID: id, SizeText: text})
			}
			pv.Versions = append(pv.Versions, vv)
		}
		v.Products = append(v.Products, pv)
	}
	c.Header("Cache-Control", "private, no-store")
	h.ui.render(c, http.StatusOK, "downloads.html", "downloads", v)
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
