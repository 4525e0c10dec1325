package app_test

import (
	"testing"
	"time"

	"github.com/openlsc/openlsc/app"
)

// TestParseS3URL: the storage URL's forms, the compose deployment's among
// them, and the refusals.
func TestParseS3URL(t *testing.T) {
	o, err := app.ParseS3URL("s3://openlsc/files?endpoint=http://s3.localhost:8333&region=us-east-1&mode=redirect&presign=5m")
	if err != nil || o.Bucket != "openlsc" || o.Prefix != "files/" || o.Endpoint != "s3.localhost:8333" || o.Secure ||
		!o.PathStyle || o.Stream || o.PresignTTL != 5*time.Minute || o.Region != "us-east-1" {
		t.Errorf("compose URL: %+v %v", o, err)
	}
	o, err = app.ParseS3URL("s3://bucket?region=eu-west-1&mode=stream")
	if err != nil || o.Endpoint != "" || !o.Secure || o.PathStyle || !o.Stream || o.Prefix != "" {
		t.Errorf("AWS URL: %+v %v", o, err)
	}
	o, err = app.ParseS3URL("s3://bucket/a/b/?endpoint=minio.internal:9000&path_style=false")
	if err != nil || o.Endpoint != "minio.internal:9000" || !o.Secure || o.PathStyle || o.Prefix != "a/b/" {
		t.Errorf("host endpoint: %+v %v", o, err)
	}
	for _, bad := range []string{"http://bucket/x", "s3:///x", "s3://b?mode=copy", "s3://b?presign=0s", "s3://b?presign=1y", "s3://b?path_style=maybe"} {
		if _, err := app.ParseS3URL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
