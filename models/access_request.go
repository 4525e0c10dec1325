package models

import "time"

// Permission is a right on one licence.
type Permission string

// The per-licence permissions.
const (
	PermAdministrator   Permission = "administrator"
	PermLicenseViewer   Permission = "license_viewer"
	PermDownloadManager Permission = "download_manager"
	PermKeyReader       Permission = "key_reader"
)

// Permissions lists the per-licence permissions, strongest first.
var Permissions = []Permission{PermAdministrator, PermLicenseViewer, PermDownloadManager, PermKeyReader}

// Valid reports whether p is a known per-licence permission.
func (p Permission) Valid() bool {
	for _, q := range Permissions {
		if p == q {
			return true
		}
	}
	return false
}

// RequestStatus is the state of an access or activation request.
type RequestStatus string

// Request states.
const (
	RequestPending   RequestStatus = "pending"
	RequestApproved  RequestStatus = "approved"
	RequestDenied    RequestStatus = "denied"
	RequestCancelled RequestStatus = "cancelled"
	RequestExpired   RequestStatus = "expired"
	RequestFailed    RequestStatus = "failed"
)

// AccessRequest is a user's request for permissions on a licence.
type AccessRequest struct {
	ID                 int64
	RequesterID        int64
	AgreementID        *int64 // nil when the licence was not found
	Program            Program
	LicenseNumber      string
	Permissions        string // comma-separated Permission values
	Comment            string
	Status             RequestStatus
	FailureReason      string // for operators only
	ClientAddress      string // where the request came from, for the failure lockout
	GrantedPermissions string
	DecidedBy          *int64
	DecidedAt          *time.Time
	DecisionMessage    string
	ExpiresAt          time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
}
