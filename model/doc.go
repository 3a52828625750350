// Package model defines modjo's models: Go structs whose fields, tags and Meta options
// describe a MongoDB collection the way Django's models describe a table.
//
//	type Author struct {
//		model.Model                      // ID bson.ObjectID, stored as _id
//		Name  string `modjo:"max_length=100"`
//		Email string `modjo:"unique;email"`
//	}
//
//	reg := model.NewRegistry()
//	reg.MustRegister(Author{})
//
// Registration validates every struct tag, type and option up front and builds the
// model's metadata (Meta): its fields with their Django kinds, the primary key, indexes,
// constraints and a precompiled encode/decode plan. Everything else in modjo — QuerySets,
// relations, migrations — reads this metadata. Saving and loading instances happens
// through a database handle (package modjo).
//
// A Registry is safe for concurrent reads once registration is done.
package model
