package model

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
)

// Registry holds registered models. Register validates each model and builds its
// metadata and codec; afterwards a Registry and its Metas are safe for concurrent use.
// Registering more models later is allowed (it takes a write lock), and several database
// handles may share one Registry.
type Registry struct {
	mu     sync.RWMutex
	models []*Meta
	byType map[reflect.Type]*Meta // models and embedded models
	byColl map[string]*Meta

	sigMu     sync.RWMutex
	receivers map[Signal][]receiver
	nextRecv  uint64
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byType: map[reflect.Type]*Meta{}, byColl: map[string]*Meta{}}
}

// Register validates and registers models, given as values or pointers of their struct
// types (Book{} or &Book{}; a reflect.Type works too). Structs embedding model.Embedded
// may be registered as well (they must be, to be named in a Polymorphic field's types=);
// embedded structs used as fields are registered implicitly. Registering a type again is
// a no-op. Every mistake is reported as a *RegistrationError naming the model, the field
// and the problem; when Register fails, none of the given models is registered.
func (r *Registry) Register(models ...any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := &builder{r: r, staged: map[reflect.Type]*Meta{}}
	var types []reflect.Type
	for _, v := range models {
		t, err := modelType(v)
		if err != nil {
			return err
		}
		if _, done := r.byType[t]; done || slices.Contains(types, t) {
			continue
		}
		types = append(types, t)
	}
	// Embedded models first, so that Polymorphic fields can name them in any order.
	for _, t := range types {
		if isEmbeddedStruct(t) {
			if _, err := b.embeddedMeta(t); err != nil {
				return err
			}
		}
	}
	for _, t := range types {
		if !isEmbeddedStruct(t) {
			if err := b.modelMeta(t); err != nil {
				return err
			}
		}
	}
	if err := b.finish(); err != nil {
		return err
	}
	for _, m := range b.order {
		r.byType[m.Type] = m
		if !m.Embedded {
			r.models = append(r.models, m)
			r.byColl[m.Collection] = m
		}
	}
	return nil
}

// MustRegister is Register that panics with the *RegistrationError, for program start.
func (r *Registry) MustRegister(models ...any) {
	if err := r.Register(models...); err != nil {
		panic(err)
	}
}

// Models returns the registered models (not embedded models) in registration order.
func (r *Registry) Models() []*Meta {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.models)
}

// Meta returns the metadata of a registered model or embedded model, given as T, *T or
// a reflect.Type. An unknown type gives an error wrapping ErrNotRegistered.
func (r *Registry) Meta(v any) (*Meta, error) {
	t, ok := v.(reflect.Type)
	if !ok {
		if v == nil {
			return nil, fmt.Errorf("%w: nil", ErrNotRegistered)
		}
		t = reflect.TypeOf(v)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	r.mu.RLock()
	m := r.byType[t]
	r.mu.RUnlock()
	if m == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotRegistered, t)
	}
	return m, nil
}

// MetaByCollection returns the model stored in the named collection.
func (r *Registry) MetaByCollection(name string) (*Meta, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	m, ok := r.byColl[name]
	return m, ok
}

func modelType(v any) (reflect.Type, error) {
	t, ok := v.(reflect.Type)
	if !ok {
		if v == nil {
			return nil, &RegistrationError{Model: "<nil>", Err: errors.New("cannot register nil")}
		}
		t = reflect.TypeOf(v)
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, &RegistrationError{Model: t.String(), Err: fmt.Errorf("a model must be a struct, not %s", t.Kind())}
	}
	if t.Name() == "" {
		return nil, &RegistrationError{Model: t.String(), Err: errors.New("a model must be a named struct type")}
	}
	return t, nil
}
