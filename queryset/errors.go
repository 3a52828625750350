package queryset

import (
	"errors"
	"strings"

	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// qsError is an error of a QuerySet operation: it names the operation, the model and,
// where it helps, the filter, and unwraps to a sentinel (ErrDoesNotExist, …) when one
// applies and to the cause (a *model.FieldError, the driver's error, …).
type qsError struct {
	op       string // "get", "update", …
	model    string
	filter   string // the compiled filter, for Get's errors; "" when not shown
	msg      string
	sentinel error
	err      error
}

func (e *qsError) Error() string {
	var b strings.Builder
	b.WriteString("modjo: ")
	b.WriteString(e.op)
	if e.model != "" {
		b.WriteByte(' ')
		b.WriteString(e.model)
	}
	if e.msg != "" {
		b.WriteString(": ")
		b.WriteString(e.msg)
	}
	if e.filter != "" {
		b.WriteString(" (filter ")
		b.WriteString(e.filter)
		b.WriteByte(')')
	}
	if e.err != nil {
		b.WriteString(": ")
		// The causes of this module all start with "modjo: ", said once already.
		b.WriteString(strings.TrimPrefix(e.err.Error(), "modjo: "))
	}
	return b.String()
}

func (e *qsError) Unwrap() []error {
	out := make([]error, 0, 2)
	if e.sentinel != nil {
		out = append(out, e.sentinel)
	}
	if e.err != nil {
		out = append(out, e.err)
	}
	return out
}

// wrap names the operation and model around an error from below (the compiler, the
// driver, the codec); a QuerySet's own errors are returned as they are.
func wrap(op string, meta *model.Meta, err error) error {
	if err == nil {
		return nil
	}
	var qe *qsError
	if errors.As(err, &qe) {
		return err
	}
	return &qsError{op: op, model: modelName(meta), err: err}
}

// writeErr wraps a write's error, adding ErrIntegrity when the server refused a
// document (duplicate key, collection validator), as package modjo does.
func writeErr(op string, meta *model.Meta, err error) error {
	e := &qsError{op: op, model: modelName(meta), err: err}
	var se mongo.ServerError
	switch {
	case mongo.IsDuplicateKeyError(err):
		e.sentinel, e.msg = model.ErrIntegrity, "duplicate key"
	case errors.As(err, &se) && se.HasErrorCode(121): // DocumentValidationFailure
		e.sentinel, e.msg = model.ErrIntegrity, "document failed validation"
	}
	return e
}

func modelName(meta *model.Meta) string {
	if meta == nil {
		return ""
	}
	return meta.Name
}
