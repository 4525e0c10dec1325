package models

import (
	"context"
	"strings"
	"time"
)

// likeEscaper escapes the characters LIKE treats specially, with the
// escape character named in every query's ESCAPE clause.
var likeEscaper = strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)

// containsPattern returns a LIKE pattern matching text anywhere, text's own
// "%", "_" and "\" matching only themselves; the query must say ESCAPE '\'.
func containsPattern(text string) string {
	return "%" + likeEscaper.Replace(strings.ToLower(text)) + "%"
}

// LicencesMatching returns up to limit agreements whose number or name
// contains text (case-insensitively, every character literal), by number.
func (s *Store) LicencesMatching(ctx context.Context, text string, limit int) ([]Agreement, error) {
	like := containsPattern(text)
	var ags []Agreement
	err := s.db.WithContext(ctx).
		Where(`LOWER(number) LIKE ? ESCAPE '\' OR LOWER(name) LIKE ? ESCAPE '\'`, like, like).
		Order("number").Limit(limit).Find(&ags).Error
	return ags, mapError(err)
}

// UsersMatching returns up to limit users whose display name or work
// email contains text (case-insensitively, every character literal), by id.
func (s *Store) UsersMatching(ctx context.Context, text string, limit int) ([]User, error) {
	like := containsPattern(text)
	var users []User
	err := s.db.WithContext(ctx).
		Where(`LOWER(display_name) LIKE ? ESCAPE '\' OR LOWER(work_email) LIKE ? ESCAPE '\'`, like, like).
		Order("id").Limit(limit).Find(&users).Error
	return users, mapError(err)
}

// UnadministeredLicence is a licence nobody administers, with its
// organization's number.
type UnadministeredLicence struct {
	ID      int64
	Number  string
	Program Program
	Org     string
}

// UnadministeredLicences returns up to limit licences, by number, that
// nobody administers: no administrator grant, and no MBSA administrator
// who inherits them.
func (s *Store) UnadministeredLicences(ctx context.Context, limit int) ([]UnadministeredLicence, error) {
	var ags []UnadministeredLicence
	err := s.db.WithContext(ctx).Table("agreements AS ag").Select("ag.id, ag.number, ag.program, o.number AS org").
		Joins("JOIN organizations o ON o.id = ag.organization_id").
		Where("NOT EXISTS (SELECT 1 FROM grants g WHERE g.agreement_id = ag.id AND g.permission = ?)", PermAdministrator).
		Where(`NOT EXISTS (SELECT 1 FROM inheritance_choices ic JOIN grants g ON g.user_id = ic.user_id AND g.agreement_id = ic.mbsa_id AND g.permission = ?
		        WHERE ic.mbsa_id = ag.parent_id AND ic.inherit = ?)`, PermAdministrator, true).
		Order("ag.number").Limit(limit).Scan(&ags).Error
	return ags, mapError(err)
}

// FailedAccessRequest is a failed access request with its requester's
// work email ("" when they have none).
type FailedAccessRequest struct {
	ID             int64
	RequesterEmail string
	FailureReason  string
	CreatedAt      time.Time
}

// FailedAccessRequestsOn returns up to limit failed access requests for
// licence, newest first.
func (s *Store) FailedAccessRequestsOn(ctx context.Context, licence int64, limit int) ([]FailedAccessRequest, error) {
	var out []FailedAccessRequest
	err := s.db.WithContext(ctx).Table("access_requests AS r").
		Select("r.id, COALESCE(u.work_email, '') AS requester_email, r.failure_reason, r.created_at").
		Joins("LEFT JOIN users u ON u.id = r.requester_id").
		Where("r.agreement_id = ? AND r.status = ?", licence, RequestFailed).
		Order("r.id DESC").Limit(limit).Scan(&out).Error
	return out, mapError(err)
}
