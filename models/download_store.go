package models

import (
	"context"
	"database/sql"
	"errors"
)

// CatalogVersion is a product version as the download rules need it.
type CatalogVersion struct {
	ID        int64
	ProductID int64
	Version   string
	Edition   string
	Released  Date
}

// EntitledVersion is a version a licence is entitled to.
type EntitledVersion struct {
	CatalogVersion
	AgreementID int64
}

// EntitlementFilter narrows EntitledVersions. Zero fields select everything.
type EntitlementFilter struct {
	ProductID   int64
	Edition     *string
	ProductCode string
	// VersionsOnly returns each entitled version once, with AgreementID
	// 0: for a listing, which licence entitles does not matter, and a user
	// of many licences would otherwise read a row per licence.
	VersionsOnly bool
}

// CatalogFile is a product file with its version and product.
type CatalogFile struct {
	File    ProductFile
	Version CatalogVersion
	Product Product // its ID, Code and Name
}

// ErrNoSuchCatalogFile is a product file that does not exist.
var ErrNoSuchCatalogFile = Errorf(CodeNotFound, "No such file.")

// WorkEmailConfirmed reports whether user has confirmed their work email;
// a user who does not exist is not found.
func (s *Store) WorkEmailConfirmed(ctx context.Context, user int64) (bool, error) {
	var confirmed bool
	err := s.db.WithContext(ctx).Raw("SELECT work_email_verified_at IS NOT NULL FROM users WHERE id = ?", user).Row().Scan(&confirmed)
	return confirmed, mapError(err)
}

// EntitledVersions returns the versions licences are entitled to, one row
// per licence and version, narrowed by f.
func (s *Store) EntitledVersions(ctx context.Context, licences []int64, f EntitlementFilter) ([]EntitledVersion, error) {
	cols := "e.agreement_id, v.id, v.product_id, v.version, v.edition, v.released"
	if f.VersionsOnly {
		cols = "DISTINCT 0, v.id, v.product_id, v.version, v.edition, v.released"
	}
	q := s.db.WithContext(ctx).Table("entitlements AS e").Select(cols).
		Joins("JOIN product_versions v ON v.id = e.version_id")
	q = s.whereIDIn(q, "e.agreement_id", licences)
	if f.ProductID != 0 {
		q = q.Where("v.product_id = ?", f.ProductID)
	}
	if f.Edition != nil {
		q = q.Where("v.edition = ?", *f.Edition)
	}
	if f.ProductCode != "" {
		q = q.Joins("JOIN products p ON p.id = v.product_id").Where("p.code = ?", f.ProductCode)
	}
	rows, err := q.Rows()
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []EntitledVersion
	for rows.Next() {
		var r EntitledVersion
		if err := rows.Scan(&r.AgreementID, &r.ID, &r.ProductID, &r.Version, &r.Edition, &r.Released); err != nil {
			return nil, mapError(err)
		}
		out = append(out, r)
	}
	return out, mapError(rows.Err())
}

// ProductsByID returns the products with ids (their ID, Code and Name).
func (s *Store) ProductsByID(ctx context.Context, ids []int64) ([]Product, error) {
	q := s.db.WithContext(ctx).Table("products").Select("id, code, name")
	rows, err := s.whereIDIn(q, "id", ids).Rows()
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []Product
	for rows.Next() {
		var p Product
		if err := rows.Scan(&p.ID, &p.Code, &p.Name); err != nil {
			return nil, mapError(err)
		}
		out = append(out, p)
	}
	return out, mapError(rows.Err())
}

// VersionsOfProducts returns every version of the products with ids.
func (s *Store) VersionsOfProducts(ctx context.Context, ids []int64) ([]CatalogVersion, error) {
	q := s.db.WithContext(ctx).Table("product_versions").Select("id, product_id, version, edition, released")
	rows, err := s.whereIDIn(q, "product_id", ids).Rows()
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []CatalogVersion
	for rows.Next() {
		var v CatalogVersion
		if err := rows.Scan(&v.ID, &v.ProductID, &v.Version, &v.Edition, &v.Released); err != nil {
			return nil, mapError(err)
		}
		out = append(out, v)
	}
	return out, mapError(rows.Err())
}

// FilesOfVersions returns the files of the versions with ids (all but
// their Path and times), only those in language when it is not empty
// (compared case-insensitively).
func (s *Store) FilesOfVersions(ctx context.Context, ids []int64, language string) ([]ProductFile, error) {
	q := s.db.WithContext(ctx).Table("product_files").Select("version_id, id, name, language, size, sha256")
	q = s.whereIDIn(q, "version_id", ids)
	if language != "" {
		q = q.Where("LOWER(language) = LOWER(?)", language)
	}
	rows, err := q.Rows()
	if err != nil {
		return nil, mapError(err)
	}
	defer rows.Close()
	var out []ProductFile
	for rows.Next() {
		var f ProductFile
		if err := rows.Scan(&f.VersionID, &f.ID, &f.Name, &f.Language, &f.Size, &f.SHA256); err != nil {
			return nil, mapError(err)
		}
		out = append(out, f)
	}
	return out, mapError(rows.Err())
}

// CatalogFileByID returns the file id with its version and product, or
// ErrNoSuchCatalogFile.
func (s *Store) CatalogFileByID(ctx context.Context, id int64) (*CatalogFile, error) {
	var c CatalogFile
	row := s.db.WithContext(ctx).Table("product_files AS f").
		Select("f.id, f.version_id, f.name, f.language, f.size, f.sha256, f.path, v.product_id, v.version, v.edition, v.released, p.code, p.name").
		Joins("JOIN product_versions v ON v.id = f.version_id").
		Joins("JOIN products p ON p.id = v.product_id").
		Where("f.id = ?", id).Row()
	err := row.Scan(&c.File.ID, &c.File.VersionID, &c.File.Name, &c.File.Language, &c.File.Size, &c.File.SHA256, &c.File.Path,
		&c.Version.ProductID, &c.Version.Version, &c.Version.Edition, &c.Version.Released, &c.Product.Code, &c.Product.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoSuchCatalogFile
	}
	if err != nil {
		return nil, mapError(err)
	}
	c.Version.ID, c.Product.ID = c.File.VersionID, c.Version.ProductID
	return &c, nil
}
