"""The resident's journey through an online procedure: the form pages, documents, check your
answers, submission, confirmation, acuse and the status page. Views are thin; the rules live in
`ventanilla.procedures.services`."""
