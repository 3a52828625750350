// Package modjo is Django's ORM for Go, on MongoDB. This package holds the database
// handle (DB) and the operations on one model instance: Save, Create, Delete, Refresh
// and FullClean. Models are defined and registered with package model; QuerySets come
// from package queryset.
//
//	reg := model.NewRegistry()
//	reg.MustRegister(Author{}, Book{})
//	db, err := modjo.Open(ctx, modjo.Config{URI: uri, Database: "shop"}, reg)
//	...
//	b := &Book{Title: "Dune"}
//	err = db.Save(ctx, b)            // inserts, b.ID is set
//	b.Title = "Dune Messiah"
//	err = db.Save(ctx, b)            // replaces the stored document
//	err = db.Save(ctx, b, modjo.UpdateFields("title")) // $set of one field
//	err = db.Delete(ctx, b)
//
// Save does not validate unless asked, as in Django: call FullClean, or pass Validate()
// to Save. Hooks (model.BeforeSaver, …) and the registry's signals run around every
// Save and Delete; see docs/instances.md for their order.
//
// Errors: the sentinels ErrDoesNotExist, ErrIntegrity, … are re-exported from package
// model for errors.Is; every error names the model (and the primary key or field where
// one is involved) and wraps the driver's error when there is one, so the driver's
// predicates such as mongo.IsDuplicateKeyError keep working.
//
// A DB is safe for concurrent use by multiple goroutines; several DBs (for example one
// per database, Django's multiple databases) may share one registry.
package modjo
