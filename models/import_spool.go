package models

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// spool keeps the records of a section read before the sections they
// name, until those are read: as JSON lines in a temporary file, so that
// a document in any order is imported in bounded memory (or in memory
// when no file can be made). The file is encrypted with a key that only
// the import holds, since keys' material passes through it, and removed
// at once where the system allows, so that nothing is left behind.
type spool struct {
	file *os.File // nil: mem
	mem  bytes.Buffer
	w    *bufio.Writer
	enc  *json.Encoder
	ciph cipher.Block
	iv   []byte
}

func newSpool() (*spool, error) {
	key := make([]byte, 32)
	s := &spool{iv: make([]byte, aes.BlockSize)}
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rand.Reader, s.iv); err != nil {
		return nil, err
	}
	var err error
	if s.ciph, err = aes.NewCipher(key); err != nil {
		return nil, err
	}
	var out io.Writer = &s.mem
	if f, err := os.CreateTemp("", "openlsc-import-*.spool"); err == nil {
		_ = os.Remove(f.Name()) // the open file lives on (on Unix)
		s.file, out = f, f
	}
	s.w = bufio.NewWriterSize(cipher.StreamWriter{S: cipher.NewCTR(s.ciph, s.iv), W: out}, 64<<10)
	s.enc = json.NewEncoder(s.w)
	s.enc.SetEscapeHTML(false)
	return s, nil
}

// add writes the record v.
func (s *spool) add(v any) error {
	return s.enc.Encode(v)
}

// records returns the records written, to be read once.
func (s *spool) records() (*spoolSource, error) {
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("hold records: %w", err)
	}
	var in io.Reader = &s.mem
	if s.file != nil {
		if _, err := s.file.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("hold records: %w", err)
		}
		in = s.file
	}
	in = cipher.StreamReader{S: cipher.NewCTR(s.ciph, s.iv), R: in}
	return &spoolSource{json.NewDecoder(bufio.NewReaderSize(in, 64<<10))}, nil
}

// close lets go of the records, removing the file.
func (s *spool) close() {
	if s.file != nil {
		_ = s.file.Close()
		_ = os.Remove(s.file.Name()) // where it could not be removed before
	}
}

// spoolSource reads back a spool's records as those of a section.
type spoolSource struct{ dec *json.Decoder }

func (s *spoolSource) section() (string, error) { return "", nil }

func (s *spoolSource) record(v any) (bool, error) {
	switch err := s.dec.Decode(v); err {
	case nil:
		return true, nil
	case io.EOF:
		return false, nil
	default:
		return false, fmt.Errorf("read back held records: %w", err)
	}
}

// holdSection writes the records of the current section of src, of type
// T, to s.
func holdSection[T any](src importSource, s *spool) error {
	for {
		var v T
		ok, err := src.record(&v)
		if err != nil || !ok {
			return err
		}
		if err := s.add(&v); err != nil {
			return fmt.Errorf("hold records: %w", err)
		}
	}
}

// heldKey is a key record with its index in the document, as the keys
// section is planned and as a spool holds it until what it names is read.
type heldKey struct {
	I int       `json:"i"`
	K ImportKey `json:"k"`
}
