package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/encoding/charmap"

	"github.com/teplokarta/teplokarta/internal/sources"
	"github.com/teplokarta/teplokarta/schemas"
)

// SchemaValidator checks raw JSON messages against the JSON Schemas in schemas/json (raw-<source>.json,
// raw-<source>-status.json). Sources without a schema file (configured generic ones: their mapping is the
// contract) and XML bodies pass; the parser still checks them.
type SchemaValidator struct {
	byName map[string]*jsonschema.Schema
}

// NewSchemaValidator compiles the embedded schemas.
func NewSchemaValidator() (*SchemaValidator, error) {
	return newSchemaValidator(schemas.JSON, "json")
}

func newSchemaValidator(fsys fs.FS, dir string) (*SchemaValidator, error) {
	c := jsonschema.NewCompiler()
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("schemas: %w", err)
	}
	v := &SchemaValidator{byName: map[string]*jsonschema.Schema{}}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "raw-") || !strings.HasSuffix(name, ".json") {
			continue
		}
		b, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("schemas: %w", err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", name, err)
		}
		if err := c.AddResource(name, doc); err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", name, err)
		}
		sch, err := c.Compile(name)
		if err != nil {
			return nil, fmt.Errorf("schemas: compile %s: %w", name, err)
		}
		v.byName[strings.TrimSuffix(strings.TrimPrefix(name, "raw-"), ".json")] = sch
	}
	return v, nil
}

// Has says whether a schema exists for source (and status, for status changes).
func (v *SchemaValidator) Has(source string, status bool) bool {
	_, ok := v.byName[schemaKey(source, status)]
	return ok
}

func schemaKey(source string, status bool) string {
	if status {
		return source + "-status"
	}
	return source
}

// Validate checks one message. Violations are *sources.InvalidError with reason missing_field,
// wrong_type or schema.
func (v *SchemaValidator) Validate(source string, status bool, payload []byte, contentType string) error {
	sch, ok := v.byName[schemaKey(source, status)]
	if !ok || strings.Contains(sources.MediaType(contentType), "xml") || startsWithAngle(payload) {
		return nil
	}
	body := payload
	if sources.IsCP1251(sources.Charset(contentType)) {
		var err error
		if body, err = charmap.Windows1251.NewDecoder().Bytes(payload); err != nil {
			return &sources.InvalidError{Source: source, Reason: "bad_encoding", Detail: err.Error()}
		}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))))
	if err != nil {
		return &sources.InvalidError{Source: source, Reason: "bad_json", Detail: err.Error()}
	}
	err = sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &sources.InvalidError{Source: source, Reason: "schema", Detail: err.Error()}
	}
	leaf := firstLeaf(ve)
	return &sources.InvalidError{Source: source, Reason: schemaReason(leaf), Detail: "/" + strings.Join(leaf.InstanceLocation, "/") + ": " + oneLine(leaf.Error())}
}

func startsWithAngle(b []byte) bool {
	b = bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(b) > 0 && b[0] == '<'
}

func firstLeaf(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) > 0 {
		e = e.Causes[0]
	}
	return e
}

func schemaReason(e *jsonschema.ValidationError) string {
	switch e.ErrorKind.(type) {
	case *kind.Required:
		return "missing_field"
	case *kind.Type:
		return "wrong_type"
	}
	return "schema"
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
