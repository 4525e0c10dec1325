// Package authz decides who may do what on which licence.
package authz
