package model

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Sentinel errors callers branch on with errors.Is. Package modjo re-exports them.
var (
	// ErrDoesNotExist: a query for one object found none (Django's DoesNotExist).
	ErrDoesNotExist = errors.New("modjo: object does not exist")
	// ErrMultipleObjectsReturned: a query for one object found several.
	ErrMultipleObjectsReturned = errors.New("modjo: multiple objects returned")
	// ErrNotSupported: the feature cannot be expressed on MongoDB (or not yet in modjo).
	ErrNotSupported = errors.New("modjo: not supported")
	// ErrIntegrity: the database refused a write, such as a duplicate key.
	ErrIntegrity = errors.New("modjo: integrity error")
	// ErrProtected: a delete was refused by on_delete=protect.
	ErrProtected = errors.New("modjo: protected")
	// ErrNotRegistered: a Go type that is not a registered model was used as one.
	ErrNotRegistered = errors.New("modjo: model not registered")
)

// RegistrationError reports a mistake in a model definition found by Register: an
// unknown tag option, a bad default, an unsupported type, a duplicate collection, …
type RegistrationError struct {
	Model string // Go type name
	Field string // Go field name, or "" for model-level problems
	Err   error
}

func (e *RegistrationError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("modjo: model %s: %v", e.Model, e.Err)
	}
	return fmt.Sprintf("modjo: model %s, field %s: %v", e.Model, e.Field, e.Err)
}

func (e *RegistrationError) Unwrap() error { return e.Err }

// FieldError reports an unknown field or lookup, naming the model and the valid choices.
type FieldError struct {
	Model   string   // model name
	Name    string   // the part that is not valid ("titel", "title__icontanis")
	Kind    string   // "field" or "lookup"
	Choices []string // what would have been valid
}

func (e *FieldError) Error() string {
	choices := slices.Clone(e.Choices)
	sort.Strings(choices)
	return fmt.Sprintf("modjo: cannot resolve %s %q on model %s; choices are: %s", e.Kind, e.Name, e.Model, strings.Join(choices, ", "))
}

// ValidationError collects validation messages by field name ("" for errors that do not
// belong to one field, such as a unique-together violation). It is what FullClean
// returns.
type ValidationError struct {
	Model  string
	Fields map[string][]string
}

// Add records a message for a field.
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string][]string{}
	}
	e.Fields[field] = append(e.Fields[field], msg)
}

// Empty reports whether no message was recorded.
func (e *ValidationError) Empty() bool { return len(e.Fields) == 0 }

// Err returns e, or nil when it holds no message.
func (e *ValidationError) Err() error {
	if e.Empty() {
		return nil
	}
	return e
}

func (e *ValidationError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for n := range e.Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		label := n
		if label == "" {
			label = "__all__"
		}
		parts = append(parts, label+": "+strings.Join(e.Fields[n], "; "))
	}
	return fmt.Sprintf("modjo: %s is not valid: %s", e.Model, strings.Join(parts, "; "))
}
