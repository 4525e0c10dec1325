package authz

import "context"

// AgreementID returns the id of the licence (agreement) numbered number,
// for the guards of licence routes (LicenceResolver). An agreement keeps
// its number and is never deleted, so an id once found stays right and is
// remembered: a licence route asks the database only for its listing. A
// number not found (yet) is asked again each time, so a licence imported
// later, on any instance, is found at once.
func (a *Authorizer) AgreementID(ctx context.Context, number string) (int64, error) {
	if id, ok := a.numbers.Load(number); ok {
		return id.(int64), nil
	}
	id, err := a.store.AgreementID(ctx, number)
	if err != nil {
		return 0, err
	}
	a.numbers.Store(number, id)
	return id, nil
}
