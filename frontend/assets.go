package frontend

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

//go:embed static
var staticFS embed.FS

// assetPrefix is the URL path under which static files are served.
const assetPrefix = "/static/"

// hashLen is the number of hex digits of the SHA-256 in an asset's URL.
const hashLen = 12

// asset is one static file, served under a content-hashed name.
type asset struct {
	content     []byte
	contentType string
}

// assets holds the static files by hashed name ("app.3f2a9c1b0d4e.css") and
// the hashed name of each file ("app.css").
type assets struct {
	byHashed map[string]asset
	hashed   map[string]string
}

// loadAssets reads and hashes every embedded static file.
func loadAssets() (*assets, error) {
	a := &assets{byHashed: map[string]asset{}, hashed: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(content)
		hash := hex.EncodeToString(sum[:])[:hashLen]
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hash + ext
		a.byHashed[hashed] = asset{content: content, contentType: contentType(ext)}
		a.hashed[name] = hashed
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static assets: %w", err)
	}
	return a, nil
}

// contentType returns the media type of a file with extension ext. The
// common web types are fixed here so that the system's MIME tables cannot
// change them.
func contentType(ext string) string {
	switch ext {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".woff2":
		return "font/woff2"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// url returns the content-hashed URL of the static file name, or an error
// if there is no such file.
func (a *assets) url(name string) (string, error) {
	hashed, ok := a.hashed[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	return assetPrefix + hashed, nil
}

// serveAsset serves a static file by its hashed name. Because the URL
// changes with the content, the response may be cached for good.
func (u *UI) serveAsset(c *gin.Context) {
	a, ok := u.assets.byHashed[c.Param("name")]
	if !ok {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("404 page not found\n"))
		return
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, a.contentType, a.content)
}
