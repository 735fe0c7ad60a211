"""The back office (经办后台): what a bureau's operators do through the API and the pages —
imports, the kinship review queue, freezes, enrolment changes, the policy, running jobs.
"""
