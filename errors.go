package modjo

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Sentinel errors, re-exported from package model, for errors.Is.
var (
	// ErrDoesNotExist: the object was not found (Django's DoesNotExist).
	ErrDoesNotExist = model.ErrDoesNotExist
	// ErrMultipleObjectsReturned: a query for one object found several.
	ErrMultipleObjectsReturned = model.ErrMultipleObjectsReturned
	// ErrNotSupported: the feature cannot be expressed on MongoDB, or not yet in modjo.
	ErrNotSupported = model.ErrNotSupported
	// ErrIntegrity: the database refused a write, such as a duplicate key. The error
	// also wraps the driver's error, so mongo.IsDuplicateKeyError works on it.
	ErrIntegrity = model.ErrIntegrity
	// ErrProtected: a delete was refused by on_delete=protect.
	ErrProtected = model.ErrProtected
	// ErrNotRegistered: a Go type that is not a registered model was used as one.
	ErrNotRegistered = model.ErrNotRegistered
)

type (
	// FieldError reports an unknown field or lookup, naming the model and the valid
	// choices.
	FieldError = model.FieldError
	// ValidationError collects validation messages by field; FullClean returns it.
	ValidationError = model.ValidationError
)

// opError is an error of an operation on one instance: it names the operation, the
// model and the primary key, and unwraps to a sentinel (when one applies) and to the
// cause, typically the driver's error.
type opError struct {
	op       string
	model    string
	pk       string // formatted, "" when unknown
	field    string // lookup name(s) involved, "" when none
	msg      string // what went wrong, when err does not say it
	sentinel error
	err      error
}

func (e *opError) Error() string {
	var b strings.Builder
	b.WriteString("modjo: ")
	b.WriteString(e.op)
	b.WriteByte(' ')
	b.WriteString(e.model)
	if e.pk != "" {
		b.WriteString(" (pk ")
		b.WriteString(e.pk)
		b.WriteByte(')')
	}
	if e.field != "" {
		b.WriteString(", field ")
		b.WriteString(e.field)
	}
	if e.msg != "" {
		b.WriteString(": ")
		b.WriteString(e.msg)
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

func (e *opError) Unwrap() []error {
	switch {
	case e.sentinel == nil && e.err == nil:
		return nil
	case e.sentinel == nil:
		return []error{e.err}
	case e.err == nil:
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.err}
}

// writeError wraps an error from a write, adding ErrIntegrity when the server refused
// the document (duplicate key, schema validation) and naming the fields of the unique
// index that was hit when the server says which.
func writeError(op string, info *modelInfo, pk any, err error) error {
	e := &opError{op: op, model: info.meta.Name, pk: formatPK(pk), err: err}
	switch {
	case mongo.IsDuplicateKeyError(err):
		e.sentinel = model.ErrIntegrity
		e.msg = "duplicate key"
		e.field = duplicateFields(info, err)
	case hasCode(err, 121): // DocumentValidationFailure: a collection validator said no
		e.sentinel = model.ErrIntegrity
		e.msg = "document failed validation"
	}
	return e
}

// hasCode reports whether a server error carries the code.
func hasCode(err error, code int) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(code)
}

// duplicateFields names, as lookup names, the keys of the unique index a duplicate-key
// error reports in keyPattern; "" when the server does not say.
func duplicateFields(info *modelInfo, err error) string {
	var raws []bson.Raw
	var we mongo.WriteException
	var bwe mongo.BulkWriteException
	var ce mongo.CommandError
	switch {
	case errors.As(err, &we):
		for _, w := range we.WriteErrors {
			raws = append(raws, w.Raw)
		}
	case errors.As(err, &bwe):
		for _, w := range bwe.WriteErrors {
			raws = append(raws, w.Raw)
		}
	case errors.As(err, &ce):
		raws = append(raws, ce.Raw)
	}
	for _, raw := range raws {
		kp, ok := raw.Lookup("keyPattern").DocumentOK()
		if !ok {
			continue
		}
		elems, err := kp.Elements()
		if err != nil {
			continue
		}
		names := make([]string, 0, len(elems))
		for _, el := range elems {
			names = append(names, info.lookupName(el.Key()))
		}
		return strings.Join(names, ", ")
	}
	return ""
}

// lookupName maps a stored path back to a field's lookup name, or returns it as is.
func (info *modelInfo) lookupName(path string) string {
	if path == "_id" {
		return "pk"
	}
	for _, f := range info.meta.Fields {
		if f.Path == path || f.Column == path {
			return f.Name
		}
	}
	return path
}

// formatPK renders a stored primary-key value for an error message.
func formatPK(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return fmt.Sprintf("%q", x)
	case bson.ObjectID:
		return x.Hex()
	case bson.Binary:
		if x.Subtype == 4 && len(x.Data) == 16 {
			h := hex.EncodeToString(x.Data)
			return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		}
		return hex.EncodeToString(x.Data)
	case bson.D:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = e.Key + ": " + formatPK(e.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case bson.Raw:
		return x.String()
	}
	return fmt.Sprint(v)
}
