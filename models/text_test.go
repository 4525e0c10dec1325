package models_test

import (
	"errors"
	"testing"

	"github.com/openlsc/openlsc/models"
)

func TestCheckText(t *testing.T) {
	for _, tc := range []struct {
		s        string
		line, ok bool // CheckLine accepts, CheckText accepts
	}{
		{"Contoso Ltd", true, true},
		{"東京 コントソ", true, true},
		{"שלום \u200f(1)", true, true}, // a right-to-left mark
		{"two\nlines\r\n\tindented", false, true},
		{"nul\x00", false, false},
		{"bell\a", false, false},
		{"del\x7f", false, false},
		{"c1\u0085", false, false},
		{"\u202aembed", false, false},
		{"over\u202eride", false, false},
		{"iso\u2066late\u2069", false, false},
		{"bad\xffutf8", false, false},
	} {
		if got := models.CheckLine("name", tc.s, 0) == nil; got != tc.line {
			t.Errorf("CheckLine(%q) accepts = %v, want %v", tc.s, got, tc.line)
		}
		if got := models.CheckText("comment", tc.s, 0) == nil; got != tc.ok {
			t.Errorf("CheckText(%q) accepts = %v, want %v", tc.s, got, tc.ok)
		}
	}
	err := models.CheckLine("display_name", "Haruto\u202eotI", 0)
	var e *models.Error
	if !errors.As(err, &e) || e.Code != models.CodeInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "display_name" {
		t.Errorf("error %#v", err)
	} else if want := "character 7 is a text-direction embedding or override (U+202E); remove it"; e.Fields[0].Message != want {
		t.Errorf("message %q, want %q", e.Fields[0].Message, want)
	}
	if models.CheckLine("name", "abcdef", 5) == nil || models.CheckLine("name", "ábcdé", 5) != nil {
		t.Error("max counts characters")
	}
}

func TestCheckFields(t *testing.T) {
	type inner struct {
		Comment string `json:"comment,omitempty"`
		Skip    string `json:"-"`
	}
	body := struct {
		Name   string            `json:"name"`
		Items  []inner           `json:"items"`
		Labels map[string]string `json:"labels"`
		Ptr    *string           `json:"ptr"`
		Raw    []byte            `json:"raw"`
		Any    any               `json:"any"`
	}{
		Name:   "fine",
		Items:  []inner{{Comment: "ok"}, {Comment: "x\x00", Skip: "\x00"}},
		Labels: map[string]string{"k": "v\u202e"},
		Raw:    []byte{0},
		Any:    map[string]any{"deep": []any{"\u2067"}},
	}
	err := models.CheckFields(&body)
	var e *models.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v", err)
	}
	got := map[string]bool{}
	for _, f := range e.Fields {
		got[f.Field] = true
	}
	for _, want := range []string{"items[1].comment", "labels.k", "any.deep[0]"} {
		if !got[want] {
			t.Errorf("%s not named in %+v", want, e.Fields)
		}
	}
	if len(e.Fields) != 3 {
		t.Errorf("fields %+v, want 3", e.Fields)
	}
	if models.CheckFields(&struct{ A string }{"fine\n"}) != nil {
		t.Error("multi-line text refused")
	}
}
