// Package mail composes and delivers OpenLSC's notification mail.
package mail
