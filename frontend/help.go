package frontend

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// SupportContact is one way to reach the service center's support, as the
// operator configures it.
type SupportContact struct {
	Language string `json:"language,omitempty"` // "en" or "ja": shown on pages in that language; empty for all
	Region   string `json:"region,omitempty"`   // such as "Japan" or "EMEA"
	Name     string `json:"name"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Hours    string `json:"hours,omitempty"` // opening hours, as the operator writes them
}

// helpQuestions are the questions of the help page, in order: the anchor
// of each is its ID, and its text the messages help.q.<ID>.title and
// help.q.<ID>.body.
var helpQuestions = []string{
	"no-licence", "request-access", "request-failed", "mbsa-inheritance", "open-license",
	"add-partner", "who-admin", "dormant", "mak-limit", "imaging", "downgrade",
}

// helpView is the data of help.html.
type helpView struct {
	Contacts  []SupportContact
	Questions []string
}

// MountHelp registers GET /help: the support contacts for the page's
// language (all of them when none is for it) and the common questions.
// Anyone may read it, signed in or not.
func (u *UI) MountHelp(r gin.IRouter, contacts []SupportContact) {
	r.GET("/help", u.page(func(c *gin.Context) {
		lang := u.i18n.negotiate(c.Request).String()
		var shown []SupportContact
		for _, sc := range contacts {
			if sc.Language == "" || sc.Language == lang {
				shown = append(shown, sc)
			}
		}
		if len(shown) == 0 {
			shown = contacts
		}
		u.render(c, http.StatusOK, "help.html", "help", helpView{Contacts: shown, Questions: helpQuestions})
	}))
}
