"""The scheduled runner: the clinic's clock (:mod:`.clock`), the jobs each slot runs (:mod:`.jobs`), one
runner per queue (:mod:`.lock`), its log and state (:mod:`.log`) and the loop over every queue
(:mod:`.loop`)."""
