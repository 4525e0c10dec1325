package frontend

import (
	"errors"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/openlsc/openlsc/models"
	"golang.org/x/text/language"
)

// errorText returns the user-facing message of err in the page's
// language: the message of its key (see models.Error.Key) naming its
// arguments, else a generic message for its code. The English text of the
// error is shown only on an English page; no page shows internal detail.
func (u *UI) errorText(c *gin.Context, err error) string {
	lang := u.i18n.negotiate(c.Request)
	var e *models.Error
	if !errors.As(err, &e) || e.Code == models.CodeInternal {
		return u.i18n.message(lang, "err.code."+string(models.CodeInternal), nil, "")
	}
	if msg := u.i18n.message(lang, e.Key, e.Args, e.Message); msg != "" {
		return msg
	}
	return u.i18n.message(lang, "err.code."+string(e.Code), nil, "")
}

// fieldTexts returns fields with each message in the page's language,
// translated by its key; the field paths are kept. A message without a
// translation becomes a generic one.
func (u *UI) fieldTexts(c *gin.Context, fields []models.FieldError) []models.FieldError {
	if len(fields) == 0 {
		return nil
	}
	lang := u.i18n.negotiate(c.Request)
	out := make([]models.FieldError, len(fields))
	for i, f := range fields {
		f.Message = u.i18n.message(lang, f.Key, f.Args, f.Message)
		if f.Message == "" {
			f.Message = u.i18n.message(lang, "err.field.invalid", nil, "")
		}
		out[i] = f
	}
	return out
}

// message returns message id in lang naming args (times written the way
// lang writes them). When lang lacks id it returns english on an English
// page and "" on any other.
func (tr *translations) message(lang language.Tag, id string, args models.Args, english string) string {
	if id == "" || !tr.ids[lang][id] {
		if lang == tr.langs[0].tag {
			return english
		}
		return ""
	}
	data := make(map[string]any, len(args))
	format := dateTimeFormatter(lang)
	for k, v := range args {
		if t, ok := v.(time.Time); ok {
			v = format(t)
		}
		data[k] = v
	}
	msg, err := tr.localizers[lang].Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return english
	}
	return msg
}
